"""Python bindings of the TFLite Metadata schema (`metadata_schema.fbs`, file identifier "M001").

`metadata_schema_generated.py` is flatc output (object API, one file), made by
scripts/gen_metadata_bindings.py; regenerate it with that script, never by hand.
"""
from . import metadata_schema_generated as fb

FILE_IDENTIFIER = b"M001"
# The name of the Model.metadata entry that holds the buffer, as the support libraries look it up.
METADATA_NAME = "TFLITE_METADATA"

__all__ = ["fb", "FILE_IDENTIFIER", "METADATA_NAME"]
