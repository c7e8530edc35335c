"""List a .tflite's ops with tensor types: inspect_ops.py FILE [OPNAME-substring]"""
import sys
from tinylite.flatbuffer.reader import read_model
from tinylite.flatbuffer.schema import *  # noqa
import tinylite.flatbuffer.schema as sch
T = {0: 'f32', 1: 'f16', 2: 'i32', 3: 'u8', 4: 'i64', 6: 'bool', 9: 'i8', 10: 'f64'}
names = getattr(sch, 'OP_NAMES', None) or {}
m = read_model(open(sys.argv[1], 'rb').read())
for si, sg in enumerate(m.subgraphs):
    for k, op in enumerate(sg.operators):
        oc = m.operator_codes[op.opcode_index]
        nm = names.get(oc.builtin_code, str(oc.builtin_code)) if isinstance(names, dict) else oc.builtin_code
        if len(sys.argv) > 2 and sys.argv[2] not in str(nm):
            continue
        f = lambda i: '-' if i < 0 else f"{sg.tensors[i].name}:{T.get(sg.tensors[i].type, sg.tensors[i].type)}{list(sg.tensors[i].shape)}"
        print(si, k, nm, f"v{oc.version}", [f(i) for i in op.inputs], '->', [f(i) for i in op.outputs])
