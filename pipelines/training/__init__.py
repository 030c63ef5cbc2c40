"""The training core: model templates, the torch and scikit-learn loops, saved models, metrics.

Plain Python: arrays, params and callbacks in; models, numbers and bytes out. It never imports
Django; the pipeline steps own the database, the files and the run's status.

Import from the modules (`templates`, `data`, `trainer`) rather than from this package: the
package itself stays empty so that listing templates for a page does not import torch (~1 s).
"""
