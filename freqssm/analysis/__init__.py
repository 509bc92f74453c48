"""The analysis layer: transfer functions and eigenvalue spectra of trained layers
(``spectra``), their plots (``plots``), the image-denoising evaluation (``denoise``) and the
registry of task evaluators (``evaluators``). It reads models' parameters and data, never the
training loop."""
