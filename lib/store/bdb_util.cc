#include "store/bdb_util.h"

#include <algorithm>
#include <cerrno>

namespace keydir {

Status BdbStatus(int ret, const char* what) {
    if (ret == 0)
        return Status::OK();
    std::string msg = std::string(what) + ": " + db_strerror(ret);
    switch (ret) {
        case DB_NOTFOUND:
        case DB_KEYEMPTY:
            return Status::NotFound(msg);
        case DB_KEYEXIST:
            return Status::Exists(msg);
        case DB_LOCK_DEADLOCK:
        case DB_LOCK_NOTGRANTED:
        case DB_REP_LOCKOUT:
            return Status::Busy(msg);
        case ENOSPC:
        case ENOMEM:
            return Status::NoSpace(msg);
        case DB_RUNRECOVERY:
            return Status::Unavailable(msg +
                                       " (restart slapd: the environment is recovered on open)");
        case DB_VERIFY_BAD:
        case DB_PAGE_NOTFOUND:
        case DB_SECONDARY_BAD:
            return Status::Corruption(msg);
        case EINVAL:
            return Status::InvalidArgument(msg);
        default:
            return Status::IOError(msg);
    }
}

int DbGet(Db* db, DbTxn* txn, std::string_view key, std::string* out, u_int32_t flags) {
    Dbt k = InDbt(key);
    OutDbt data(out);
    int ret = db->get(txn, &k, data.dbt(), flags);
    // Outside a transaction the record may grow between two reads (a
    // concurrent modify): read again until the buffer holds it.
    for (int attempt = 0; ret == DB_BUFFER_SMALL && attempt < 8; ++attempt) {
        data.Grow();
        ret = db->get(txn, &k, data.dbt(), flags);
    }
    if (ret == 0)
        data.Finish();
    return ret;
}

int CursorGet(Dbc* cursor, std::string_view seek, std::string* key, std::string* data,
              u_int32_t flags) {
    size_t key_room = std::max<size_t>(seek.size(), 256);
    size_t data_room = std::max<size_t>(data->size(), 256);
    for (int attempt = 0; attempt < 3; ++attempt) {
        key->resize(key_room);
        data->resize(data_room);
        // Positioning calls (DB_SET_RANGE ...) read the key from the buffer.
        key->replace(0, seek.size(), seek);
        Dbt k(&(*key)[0], static_cast<u_int32_t>(seek.size()));
        k.set_ulen(static_cast<u_int32_t>(key_room));
        k.set_flags(DB_DBT_USERMEM);
        Dbt d(&(*data)[0], 0);
        d.set_ulen(static_cast<u_int32_t>(data_room));
        d.set_flags(DB_DBT_USERMEM);
        int ret = cursor->get(&k, &d, flags);
        if (ret == DB_BUFFER_SMALL) {
            key_room = std::max<size_t>(key_room, k.get_size());
            data_room = std::max<size_t>(data_room, d.get_size());
            continue;
        }
        if (ret == 0) {
            key->resize(k.get_size());
            data->resize(d.get_size());
        }
        return ret;
    }
    return DB_BUFFER_SMALL;
}

}  // namespace keydir
