"""The converter: frontends (tinylite.frontends) lower a model onto a
`GraphBuilder` (builder.py) over the in-memory graph (tinylite.graph); the
graph passes (passes/) fuse, fold and prune it; the FlatBuffer writer
serializes it.  `api.TFLiteConverter` is the tf.lite-style entry point."""
