// Package quack is a stand-in for github.com/OpenCHAMI/quack, whose versions the
// Go module proxy used by the lab does not serve. The lab runs the cloud-init
// server with its in-memory store, so the DuckDB-backed storage is never used:
// opening it reports an error instead.
package quack

import (
	"database/sql"
	"errors"
)

// DuckDBStorage mirrors the type the cloud-init server expects.
type DuckDBStorage struct {
	db *sql.DB
}

// NewDuckDBStorage always fails in the lab build.
func NewDuckDBStorage(path string) (*DuckDBStorage, error) {
	return nil, errors.New("quack storage backend is not available in the cscs.openchami lab build (" + path + ")")
}

// DB returns the underlying database handle.
func (s *DuckDBStorage) DB() *sql.DB {
	return s.db
}
