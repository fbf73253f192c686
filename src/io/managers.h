/*
 * managers.h — the built-in I/O managers, each the public methods struct
 * (eider_io_manager_def) of its own file, which the definitions give the managers they
 * add: duckdb.c, parquet.c, postgres.c.
 */
#ifndef EIDER_IO_MANAGERS_H
#define EIDER_IO_MANAGERS_H

#include "eider.h"

extern const eider_io_manager_def eider__duckdb_io_methods;
extern const eider_io_manager_def eider__parquet_io_methods;
extern const eider_io_manager_def eider__postgres_io_methods;

#endif
