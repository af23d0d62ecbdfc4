package capslab

import (
	"context"
	"fmt"
	"hash/fnv"
	"io/fs"
	"slices"

	"github.com/lab-edu/lab/checker"
	"github.com/lab-edu/lab/kernel/caps"
	"github.com/lab-edu/lab/kernel/procfs"
	"github.com/lab-edu/lab/steps"
)

// Decode asks to decode a mask built from this machine's live state, so
// the answer cannot be copied from a neighbour or from the lesson.
var Decode = steps.Step{
	ID:      "caps/decode",
	Title:   "Read your shell's capabilities and decode a mask",
	Quiz:    decodeQuiz,
	Solve:   steps.SolveQuiz("caps/decode", decodeQuiz),
	Cleanup: steps.ClearQuiz("caps/decode"),
}

// puzzle is the live question: PID 1's bounding set with two of its
// capabilities removed, chosen from the boot id (stable until reboot, so
// asking twice asks the same).
type puzzle struct {
	Last    caps.Cap
	Init    caps.Set // PID 1's CapBnd
	Mask    caps.Set // what the student decodes
	Missing caps.Set // capabilities 0..Last not in Mask: the answer
}

func newPuzzle(fsys fs.FS) (puzzle, error) {
	last, err := caps.LastCap(fsys)
	if err != nil {
		return puzzle{}, err
	}
	st, err := procfs.ReadStatus(fsys, 1)
	if err != nil {
		return puzzle{}, fmt.Errorf("read the bounding set of pid 1: %w", err)
	}
	bootID, _ := fs.ReadFile(fsys, "proc/sys/kernel/random/boot_id")
	h := fnv.New64a()
	h.Write(bootID)
	seed := h.Sum64()
	p := puzzle{Last: last, Init: caps.Set(st.CapBnd)}
	held := (p.Init & caps.Full(last)).Caps()
	p.Mask = p.Init & caps.Full(last)
	for i := 0; i < 2 && len(held) > 0; i++ {
		c := held[seed%uint64(len(held))]
		p.Mask = p.Mask.Without(c)
		held = slices.DeleteFunc(held, func(x caps.Cap) bool { return x == c })
		seed /= 64
	}
	p.Missing = caps.Full(last) &^ p.Mask
	return p, nil
}

var decodeQuiz = &steps.Quiz{
	Ask: func(_ context.Context, h checker.Host) (steps.Question, error) {
		p, err := newPuzzle(h.FS())
		if err != nil {
			return steps.Question{}, err
		}
		return steps.Question{Text: fmt.Sprintf(
			"This kernel knows the capabilities 0 to %d (/proc/sys/kernel/cap_last_cap).\n"+
				"PID 1's bounding set here is %s; take two capabilities out of it and you get\n\n    %s\n\n"+
				"Which capabilities between 0 and %d are NOT in %s? Answer with their names,\n"+
				"separated by commas (for example: cap_chown,cap_kill).",
			p.Last, p.Init.Hex(), p.Mask.Hex(), p.Last, p.Mask.Hex())}, nil
	},
	Grade: func(_ context.Context, h checker.Host, answer string) checker.Result {
		const name = "mask decoded"
		p, err := newPuzzle(h.FS())
		if err != nil {
			return checker.Errored(name, err)
		}
		got, err := caps.ParseCaps(answer)
		if err != nil {
			return checker.Failed(name, err.Error(), "name capabilities as capsh does, like cap_net_raw, separated by commas")
		}
		if got == 0 {
			return checker.Failed(name, "the answer names no capability",
				fmt.Sprintf("%d capabilities between 0 and %d are missing from %s", p.Missing.Len(), p.Last, p.Mask.Hex()))
		}
		if beyond := got &^ caps.Full(p.Last); beyond != 0 {
			return checker.Failed(name, fmt.Sprintf("%s: this kernel knows capabilities 0 to %d only", beyond, p.Last),
				"cat /proc/sys/kernel/cap_last_cap")
		}
		if extra := got &^ p.Missing; extra != 0 {
			return checker.Failed(name, fmt.Sprintf("%s %s in %s", extra, isAre(extra), p.Mask.Hex()),
				"decode it: lab caps decode "+p.Mask.Hex()+" (or capsh --decode=0x"+p.Mask.Hex()+") lists what IS in the mask")
		}
		if lost := p.Missing &^ got; lost != 0 {
			return checker.Failed(name, fmt.Sprintf("%d more capabilit%s between 0 and %d %s missing from %s",
				lost.Len(), plural(lost.Len(), "y", "ies"), p.Last, isAre(lost), p.Mask.Hex()),
				"compare lab caps decode "+p.Mask.Hex()+" with the full list of this kernel: lab caps decode "+caps.Full(p.Last).Hex())
		}
		return checker.Passed(name, p.Mask.Hex()+" lacks "+p.Missing.String())
	},
	Solution: func(_ context.Context, h checker.Host) (string, error) {
		p, err := newPuzzle(h.FS())
		if err != nil {
			return "", err
		}
		return p.Missing.String(), nil
	},
}

func isAre(s caps.Set) string {
	if s.Len() == 1 {
		return "is"
	}
	return "are"
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
