"""Reading a custom op's options: the FlexBuffer map most custom ops store."""
from __future__ import annotations


def flexbuffer_map(node) -> dict:
    """The custom options of `node` as a dict; {} when it has none."""
    raw = node.custom_options
    if raw is None or len(raw) == 0:
        return {}
    from flatbuffers import flexbuffers

    try:
        value = flexbuffers.Loads(bytes(raw))
    except Exception as e:  # malformed bytes: say what and where
        node.fail(f"custom options are not a valid FlexBuffer ({type(e).__name__}: {e}); "
                  "the file is damaged or was written for another op")
    if not isinstance(value, dict):
        node.fail(f"custom options hold a {type(value).__name__}, expected a FlexBuffer map")
    return value
