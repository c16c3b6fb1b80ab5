"""Where each answer holds (``spheres explore``): a study's settings sampled, PRIM's boxes.

Modules: ``design`` (the settings of a study's verdict over their ranges to try, a Latin
hypercube, each job's overrides), ``regions`` (PRIM and feature scores from EMA Workbench, the
``[explore]`` extra), ``analysis`` (each sample's verdict and the boxes, from a collected sweep),
``figures`` (the verdict over the two settings that matter most). The sweeper is
``hydra_plugins/spheres_explore_sweeper``.
"""
