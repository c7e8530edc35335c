"""What MATRIX_DIAG and MATRIX_SET_DIAG share: their element types (LiteRT's
kernels take 1-, 2- and 8-byte integers by name and treat every other type
as float32, which corrupts bool, so bool is refused here)."""
import numpy as np

TYPES = (np.float32, np.uint8, np.int8, np.int16, np.int32, np.int64)
