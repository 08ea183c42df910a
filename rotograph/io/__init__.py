"""Media and time: reading images and movies, EXR, colour spaces, frame rates and timecode, the sample plates."""
