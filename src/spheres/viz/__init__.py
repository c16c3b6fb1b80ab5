"""The classroom: a web page that shows one market as it runs (``spheres viz``).

``classroom`` names the settings the page's sliders move and builds the model from them;
``panels`` draws the network view, the live plots and the headline numbers from a running model;
``app`` is the Mesa ``SolaraViz`` page; ``serve`` starts it (the ``spheres viz`` command). The
page needs the ``viz`` extra: ``pip install -e ".[viz]"``.
"""
