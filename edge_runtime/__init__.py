"""Device stage: runs on a Raspberry Pi with numpy, OpenCV and a LiteRT interpreter only.

Nothing in this package may import TensorFlow or Keras (a test enforces it).
"""
