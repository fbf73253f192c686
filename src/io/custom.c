/*
 * custom.c — an I/O manager of the user's own (eider_io_manager()): its methods called
 * through the same struct as the built-in ones. Its database is its own, in memory:
 * the user's store runs the output's SQL there, and its relation is what inputs read.
 */
#include "io.h"

static const eider_io_manager_def *def_of(const eider_io *io)
{
    return &io->manager->custom;
}

static int custom_exists(eider_io *io)
{
    return def_of(io)->exists(io, def_of(io)->user_data) > 0;
}

/* Ask for the relation; NULL (the step's failure set) when the manager gives none. */
static char *ask_relation(eider_io *io)
{
    char *rel = def_of(io)->relation(io, def_of(io)->user_data);
    if (!rel && !io->ctx->failed)
        eider__ctx_fail(io->ctx, NULL, "asset '%s': I/O manager '%s' gave no relation to read "
                        "it through", io->asset->key, io->manager->name);
    return rel;
}

static void custom_relation(eider_io *io)
{
    char *rel = ask_relation(io);
    if (!rel)
        return;
    free(io->table.quoted);
    io->table.quoted = eider__xstrdup(rel);
    free(rel);
}

static int custom_store(eider_io *io, const char *source, int is_sql)
{
    int64_t rows = -1;
    (void)is_sql;
    int rc = def_of(io)->store(io, source, &rows, def_of(io)->user_data);
    if (rc) {
        if (!io->ctx->failed)
            eider__ctx_fail(io->ctx, NULL, "asset '%s': I/O manager '%s' failed to store it "
                            "(%s)", io->asset->key, io->manager->name, eider_strerror(rc));
        return EIDER_ESTEP;
    }
    char *rel = ask_relation(io);
    if (!rel)
        return EIDER_ESTEP;
    eider_meta m = EIDER_META_TEXT("relation", rel);
    eider__io_add_meta(io->ctx, &m);
    eider__io_metadata(io->con, NULL, rel, NULL, rows, eider__io_add_meta, io->ctx);
    free(rel);
    return EIDER_OK;
}

static const char *custom_name(const eider_io *io)
{
    return io->asset->key;
}

static const char *custom_place(const eider_io *io)
{
    return io->manager->name;
}

const eider__io_ops eider__custom_io_ops = {
    .noun = "the stored output of", .container = "stored output", .exists = custom_exists,
    .relation = custom_relation, .store = custom_store, .name = custom_name,
    .place = custom_place,
};
