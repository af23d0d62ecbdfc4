package build_test

import (
	"fmt"
	"strings"

	"github.com/lab-edu/lab/kernel/build"
)

func ExampleParse() {
	df, err := build.Parse(strings.NewReader(`FROM busybox AS builder
RUN echo hi > /hi
FROM busybox
COPY --from=builder /hi /hi
CMD ["cat", "/hi"]
`))
	if err != nil {
		panic(err)
	}
	for _, st := range df.Stages {
		fmt.Printf("stage %d %q from %s:\n", st.Index, st.Name, st.Base)
		for _, in := range st.Instructions {
			fmt.Printf("  %s %q json=%v flags=%v\n", in.Cmd, in.Args, in.JSON, in.Flags)
		}
	}
	// Output:
	// stage 0 "builder" from busybox:
	//   RUN ["echo hi > /hi"] json=false flags=map[]
	// stage 1 "" from busybox:
	//   COPY ["/hi /hi"] json=false flags=map[from:builder]
	//   CMD ["cat" "/hi"] json=true flags=map[]
}
