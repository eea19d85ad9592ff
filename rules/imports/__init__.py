"""KM1xx: imports of standalone `keras` and of Keras modules or names that are gone."""
