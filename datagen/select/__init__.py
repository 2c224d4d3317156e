"""`datagen select`: scorers (length, lexical, teacher), greedy (score order, embedding-distance
skip, until the budget), run (SelectConfig, select()).

    select(SelectConfig(from_version="mine", budget=100, seed=0)) -> DatasetVersion(mine/v0002)
"""
