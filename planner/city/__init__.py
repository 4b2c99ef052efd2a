"""Every street of a district or city at once, on Dask (issue 17).

* :mod:`planner.city.source` - :func:`read_city`: the city-wide layers and the streets
  layer, read once;
* :mod:`planner.city.folders` - :func:`read_street_folders`: a city given as one folder
  per street, the folders merged into city-wide layers (streets from their boundaries);
* :mod:`planner.city.partition` - :func:`street_part`: one street's share of the
  city-wide layers (the street and its margin), shared by city runs and ``demo-city:N/K``;
* :mod:`planner.city.task` - :func:`run_street`: one street on a Dask worker, through the
  pipeline, never raising;
* :mod:`planner.city.registers` - :func:`split_register`, :func:`split_org_registers`:
  city-wide household and organisation registers split to streets by key or point;
* :mod:`planner.city.hashes` - content hashes of each street's share (incremental runs);
* :mod:`planner.city.run` - :func:`run_city`: the Dask run (local cluster or a scheduler);
* :mod:`planner.city.worker_setup` - the local workers' dask preload (they ignore the
  terminal's SIGINT: the command stops the cluster);
* :mod:`planner.city.rollup` - ``city_streets.csv``, ``city_communities.csv``, ``city.gpkg``;
* :mod:`planner.city.citymap` - ``city_redmap.html`` and ``.png``/``.pdf``: streets
  shaded by coverage, drill-down, gaps across street borders.
"""
