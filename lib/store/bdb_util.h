// Small helpers over Berkeley DB's C++ API (used without exceptions):
// error mapping and DBTs that read into std::string safely under DB_THREAD.
#ifndef KEYDIR_STORE_BDB_UTIL_H
#define KEYDIR_STORE_BDB_UTIL_H

#include <db_cxx.h>

#include <string>
#include <string_view>

#include "base/status.h"

namespace keydir {

// Maps a Berkeley DB return code onto a Status; `what` says what was done.
Status BdbStatus(int ret, const char* what);

// A DBT over bytes the caller owns (keys and data to write).
inline Dbt InDbt(std::string_view bytes) {
    Dbt d(const_cast<char*>(bytes.data()), static_cast<u_int32_t>(bytes.size()));
    return d;
}

// A DBT that receives data into a std::string (DB_DBT_USERMEM, grown and
// retried when Berkeley DB reports DB_BUFFER_SMALL).
class OutDbt {
  public:
    explicit OutDbt(std::string* out) : out_(out) {
        if (out_->size() < 256)
            out_->resize(256);
        Point();
    }
    Dbt* dbt() { return &dbt_; }
    // After DB_BUFFER_SMALL: make room for the size Berkeley DB asked for.
    void Grow() {
        out_->resize(dbt_.get_size());
        Point();
    }
    // After success: trim the string to what was read.
    void Finish() { out_->resize(dbt_.get_size()); }

  private:
    void Point() {
        dbt_.set_data(&(*out_)[0]);
        dbt_.set_ulen(static_cast<u_int32_t>(out_->size()));
        dbt_.set_flags(DB_DBT_USERMEM);
    }
    std::string* out_;
    Dbt dbt_;
};

// Db::get into a string, growing the buffer as needed.
int DbGet(Db* db, DbTxn* txn, std::string_view key, std::string* out, u_int32_t flags);

// Dbc::get into strings for key and data. `seek` is the key that
// positioning calls (DB_SET, DB_SET_RANGE, DB_GET_BOTH) look for.
int CursorGet(Dbc* cursor, std::string_view seek, std::string* key, std::string* data,
              u_int32_t flags);

// Closes a cursor when it goes out of scope.
class CursorCloser {
  public:
    explicit CursorCloser(Dbc* c) : c_(c) {}
    ~CursorCloser() {
        if (c_)
            c_->close();
    }
    CursorCloser(const CursorCloser&) = delete;
    CursorCloser& operator=(const CursorCloser&) = delete;

  private:
    Dbc* c_;
};

}  // namespace keydir

#endif  // KEYDIR_STORE_BDB_UTIL_H
