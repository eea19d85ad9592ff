"""KM4xx (opt-in, `--to`): model-style conversion between Sequential, functional and subclassed."""
