package caps_test

import (
	"fmt"

	"github.com/lab-edu/lab/kernel/caps"
)

// Decode a mask as capsh --decode does.
func ExampleParseMask() {
	set, _ := caps.ParseMask("0000000000003000")
	fmt.Println(set.Decode())
	fmt.Println(set.Has(caps.NetRaw), set.Without(caps.NetRaw).Hex())
	// Output:
	// 0x0000000000003000=cap_net_admin,cap_net_raw
	// true 0000000000001000
}

// Encode the security.capability attribute setcap writes for
// cap_net_bind_service+ep.
func ExampleFileCaps_Bytes() {
	f, _ := caps.ParseFileCapsText("cap_net_bind_service+ep")
	b, _ := f.Bytes()
	fmt.Printf("% x\n%s\n", b, f)
	// Output:
	// 01 00 00 02 00 04 00 00 00 00 00 00 00 00 00 00 00 00 00 00
	// cap_net_bind_service=ep
}
