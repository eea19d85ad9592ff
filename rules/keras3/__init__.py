"""KM3xx: Keras 1 and Keras 2 APIs that Keras 3 no longer has, rewritten or reported."""
