"""The journey plugin: ties the Pelican site to the Polku tracker.

`register()` only connects module-level receivers (blinker keeps weak
references, and Pelican swallows exceptions raised here); the work and the
validation happen in the receivers, whose errors fail the build.
"""

from pelican import signals

from . import block, context, experiments, lists, manifest, script, theme


def register() -> None:
    signals.initialized.connect(context.check_settings)
    signals.initialized.connect(experiments.keep_out_of_pages)
    signals.generator_init.connect(theme.add_to_environment)
    signals.all_generators_finalized.connect(context.publish_context)
    signals.all_generators_finalized.connect(experiments.publish_experiments)
    signals.all_generators_finalized.connect(block.publish_block)
    signals.all_generators_finalized.connect(manifest.write_manifest)
    signals.finalized.connect(script.minify_tracking_script)
    signals.finalized.connect(lists.write_audience_lists)
