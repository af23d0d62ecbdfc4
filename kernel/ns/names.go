package ns

// Names is what uname(2) reports of a UTS namespace.
type Names struct {
	Hostname   string `json:"hostname"`
	Domainname string `json:"domainname"`
}
