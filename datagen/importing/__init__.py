"""`datagen import`: bring your own instruction data. sources (files, folders, datasets folders, read
row by row), formats (row -> record fields, one per export format and Self-Instruct's seed format),
detect (format from the columns; --map renames), run (ImportConfig, import_source; the version is
written as it streams by datagen.versions.VersionWriter). Not named `import`: that is a keyword.

    import_source(ImportConfig(source="seeds/tasks.jsonl", name="seeds")) -> (DatasetVersion(runs/seeds/v0001), info)
"""
