"""Backups (备份): one archive holding a consistent copy of the database and the media folder.

`minsheng backup FILE` writes it while the service runs; `minsheng restore FILE` puts it back
into an empty database (or, with --force, in place of everything there). The archive format is
in archive.py, the two databases' ways of copying in sqlite.py and postgres.py, the steps in
service.py.
"""
