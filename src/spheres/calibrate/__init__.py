"""Fitting settings to a user's observed series (``spheres calibrate``).

Modules: ``observed`` (the CSV read and checked, and a run's same series), ``spec`` (the settings
to fit with their priors, the market, the sampler's sizes), ``smc`` (ABC-SMC through pyabc, the
[calibrate] extra), ``outputs`` (the files of a calibration and its printed table), ``cli`` (the
command).
"""
