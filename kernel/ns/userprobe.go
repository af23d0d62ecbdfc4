package ns

// UserProbe is what a process in a user namespace could and could not do,
// observed by doing it.
type UserProbe struct {
	UID         int    `json:"uid"`           // its uid, as its own namespace sees it
	CapSysAdmin bool   `json:"cap_sys_admin"` // CAP_SYS_ADMIN in its effective set
	MountErr    string `json:"mount_err"`     // mounting a tmpfs in a new mount namespace it owns ("" = it worked)
	// HostnameErr is what sethostname(2) on the host's UTS namespace
	// returned. The probe sets the name the host already has, so even a
	// success would change nothing.
	HostnameErr   string `json:"hostname_err"`
	HostnameEPERM bool   `json:"hostname_eperm"`
}
