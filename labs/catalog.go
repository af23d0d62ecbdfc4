package labs

// All returns every lab in course order. Each lab package adds itself here
// with one line.
func All() []Lab {
	return []Lab{}
}
