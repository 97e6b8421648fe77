"""Targets to namespaces, changing nothing: target (the text), via (where commands run), files (netns/,
nspath/, pid/, and the namespace scan), byip (ip/ in constant commands), kube (pod/), crictl (container/),
select (-l), locate (any target to the pod's netns, its node and its host-side veth)."""
