"""For each SavedModel, list the TF ops in its graph that tinylite's TF frontend has no handler for.
Run with a Python with TensorFlow (dev time only) (reads the graph with TF's protos; imports tinylite's op table from this repository)."""
import os, sys, json
sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[3]))
from tensorflow.core.protobuf import saved_model_pb2
from tinylite.frontends.tf.ops import OPS
from tinylite.frontends.tf.lower import PASSTHROUGH
HERE = os.path.dirname(os.path.abspath(__file__))
known = set(OPS) | set(PASSTHROUGH) | {"MergeV2Checkpoints", "RestoreV2", "SaveV2", "ShardedFilename",
    "StaticRegexFullMatch", "StringJoin", "AssignVariableOp", "DisableCopyOnRead", "VarIsInitializedOp"}  # checkpoint plumbing
res = {}
for n in sorted(os.listdir(os.path.join(HERE, "models"))):
    p = os.path.join(HERE, "models", n, "saved_model.pb")
    if not os.path.exists(p):
        continue
    sm = saved_model_pb2.SavedModel(); sm.ParseFromString(open(p, "rb").read())
    g = sm.meta_graphs[0].graph_def
    ops = {nd.op for nd in g.node}
    for f in g.library.function:
        ops |= {nd.op for nd in f.node_def}
    miss = sorted(ops - known)
    if miss:
        res[n] = miss
        print(f"{n:28s} {' '.join(miss)}")
json.dump(res, open(os.path.join(HERE, "unsupported_ops.json"), "w"), indent=1)
