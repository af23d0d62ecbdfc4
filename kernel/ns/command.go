package ns

// IDMap maps Count IDs starting at Inside (in the new user namespace) to
// IDs starting at Outside (in the parent): one line of /proc/PID/uid_map.
type IDMap struct {
	Inside, Outside, Count int
}

// Spec says which namespaces a new process gets, like unshare(1)'s options.
type Spec struct {
	New []Kind // the namespaces to create (clone flags)
	// UIDMap and GIDMap are written to the child's uid_map and gid_map by
	// the parent before the child runs, for a new user namespace. With
	// AsRootInside the child then calls setuid(0)/setgid(0), which makes it
	// uid 0 inside and whatever 0 maps to outside (unshare --map-root-user
	// run by that outside user).
	UIDMap, GIDMap []IDMap
	AsRootInside   bool
	// Detach starts the child in a new session (setsid), so it outlives
	// the command that started it and gets no terminal signals.
	Detach bool
}

// Flags returns the clone flags the spec asks for.
func (s Spec) Flags() uintptr { return Flags(s.New...) }
