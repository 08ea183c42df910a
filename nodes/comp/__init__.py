"""Keying and compositing: Keyer, Despill, EdgeExtend, Premult/Unpremult/ShuffleMatte/Merge, ColorSpace."""
