"""The few fields of a Pod that kubectl POSTs as protobuf (kubectl 1.36 and later send built-in types as
`application/vnd.kubernetes.protobuf` first and do not fall back to JSON), decoded into the JSON shape the
stand-in reads. The envelope: the magic `k8s\\0`, then a runtime.Unknown (1 typeMeta, 2 raw: the Pod's own
message). Field numbers are those of k8s.io/api's generated.proto; a field not named here is skipped."""

from __future__ import annotations

MAGIC = b"k8s\x00"

# message -> field number -> (json name, kind, repeated); kind: "str", "bool", or a message's name
SCHEMA: dict[str, dict[int, tuple[str, str, bool]]] = {
    "Unknown": {1: ("typeMeta", "TypeMeta", False), 2: ("raw", "Pod", False)},
    "TypeMeta": {1: ("apiVersion", "str", False), 2: ("kind", "str", False)},
    "Pod": {1: ("metadata", "ObjectMeta", False), 2: ("spec", "PodSpec", False)},
    "ObjectMeta": {
        1: ("name", "str", False),
        2: ("generateName", "str", False),
        3: ("namespace", "str", False),
    },
    "PodSpec": {
        2: ("containers", "Container", True),
        10: ("nodeName", "str", False),
        11: ("hostNetwork", "bool", False),
        12: ("hostPID", "bool", False),
    },
    "Container": {
        1: ("name", "str", False),
        2: ("image", "str", False),
        3: ("command", "str", True),
        4: ("args", "str", True),
        15: ("securityContext", "SecurityContext", False),
        16: ("stdin", "bool", False),
        18: ("tty", "bool", False),
    },
    "SecurityContext": {2: ("privileged", "bool", False)},
}


def _varint(data: bytes, i: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        b = data[i]
        i += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return value, i


def decode(data: bytes, message: str) -> dict:
    fields, out, i = SCHEMA[message], {}, 0
    while i < len(data):
        key, i = _varint(data, i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, i = _varint(data, i)
        elif wire == 2:
            size, i = _varint(data, i)
            value, i = data[i : i + size], i + size
        elif wire in (1, 5):
            value, i = None, i + (8 if wire == 1 else 4)
        else:
            raise ValueError(f"protobuf wire type {wire} in {message}")
        if number not in fields or value is None:
            continue
        name, kind, repeated = fields[number]
        if kind == "str":
            value = value.decode()
        elif kind == "bool":
            value = bool(value)
        else:
            value = decode(value, kind)
        if repeated:
            out.setdefault(name, []).append(value)
        else:
            out[name] = value
    return out


def pod_from_protobuf(body: bytes) -> dict:
    """A Pod POSTed as protobuf, as the JSON object the stand-in keeps."""
    if not body.startswith(MAGIC):
        raise ValueError("not a Kubernetes protobuf body (no k8s\\0 prefix)")
    unknown = decode(body[len(MAGIC) :], "Unknown")
    return {"apiVersion": "v1", "kind": "Pod", **unknown.get("raw", {})}
