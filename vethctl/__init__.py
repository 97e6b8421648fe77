"""vethctl: attach a veth to a pod's network namespace, capture on the host end, ping from the pod, explain."""

__version__ = "0.1.0"
