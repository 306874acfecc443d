"""Stage 2: a trained .keras model -> a validated (int8) TFLite model and its manifest."""
