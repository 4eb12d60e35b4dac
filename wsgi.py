import gc

from shop import create_app

app = create_app()
# Everything made so far (modules, the app, compiled templates) lives as long as the
# process: move it out of the garbage collector's generations, so each collection that
# requests trigger walks only what requests allocate (about a tenth less CPU per
# request on the progress poll, bench/group_progress.py).
gc.freeze()
