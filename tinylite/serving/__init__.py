"""`tinylite serve`: TensorFlow Serving's REST API for .tflite models.

Optional feature (``pip install 'tinylite[serve]'``): nothing here is imported by
``import tinylite`` or by the other commands, and FastAPI, uvicorn and
prometheus-client are imported only by ``tinylite.serving.app`` and ``.server``.
"""
