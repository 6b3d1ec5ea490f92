"""The scan engine, in pipeline order: ``discover`` finds the files, ``cache``
and ``memo`` answer what has not changed, ``pool`` runs ``analyse`` (parse
once, ``walk`` every rule, ``positions``, ``suppress``) in workers, and
``scan`` orchestrates it all and hands the project-wide step to the rules
and ranking. Nothing here names a rule."""
