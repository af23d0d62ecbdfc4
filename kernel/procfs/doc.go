// Package procfs parses what the checker reads about any process from
// /proc: status (NSpid, Cap*, Uid, NoNewPrivs), mountinfo, cgroup,
// uid_map, and the root and namespace links. Parsers work on an io.Reader
// or an fs.FS rooted at "/", so they are tested on captured files without
// root.
package procfs
