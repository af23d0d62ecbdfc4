package cli

import (
	"regexp"
	"strings"
)

// ANSI styles for lesson text on a terminal.
const (
	ansiReset = "\x1b[0m"
	ansiBold  = "\x1b[1m"
	ansiEm    = "\x1b[3m"      // italic
	ansiTitle = "\x1b[1;4;36m" // bold, underlined, cyan
	ansiHead  = "\x1b[1;33m"   // bold yellow
	ansiCode  = "\x1b[36m"     // cyan
	ansiBlock = "\x1b[32m"     // green, for command blocks
)

var (
	inlineCode = regexp.MustCompile("`([^`]+)`")
	strong     = regexp.MustCompile(`\*\*([^*]+)\*\*`)
	emphasis   = regexp.MustCompile(`\*([^*\s][^*]*)\*`)
)

// renderANSI renders the Markdown lessons use (headings, paragraphs,
// bullets, fenced and indented code, inline code, bold) with ANSI styles,
// wrapping paragraphs at width.
//
// It replaces glamour, which pulls in the chroma highlighter: chroma's
// package initialisation alone cost about 40 ms at every start of the
// binary, and the mini-Docker re-executes the binary for each container.
func renderANSI(md string, width int) string {
	var out strings.Builder
	var para []string
	flush := func() {
		if len(para) > 0 {
			out.WriteString(wrap(inline(strings.Join(para, " ")), width, "") + "\n\n")
			para = nil
		}
	}
	inFence := false
	for _, line := range strings.Split(md, "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(trimmed, "```"):
			flush()
			inFence = !inFence
			if !inFence {
				out.WriteString("\n")
			}
		case inFence, strings.HasPrefix(line, "    ") && len(para) == 0:
			out.WriteString("    " + ansiBlock + strings.TrimPrefix(line, "    ") + ansiReset + "\n")
		case strings.HasPrefix(line, "# "):
			flush()
			out.WriteString(ansiTitle + line[2:] + ansiReset + "\n\n")
		case strings.HasPrefix(line, "## "), strings.HasPrefix(line, "### "):
			flush()
			out.WriteString(ansiHead + strings.TrimLeft(line, "# ") + ansiReset + "\n\n")
		case strings.HasPrefix(trimmed, "- "), strings.HasPrefix(trimmed, "* "):
			flush()
			out.WriteString(wrap(inline(trimmed[2:]), width, "  • ") + "\n")
		case trimmed == "":
			flush()
		default:
			para = append(para, trimmed)
		}
	}
	flush()
	return strings.TrimRight(out.String(), "\n") + "\n"
}

func inline(s string) string {
	s = inlineCode.ReplaceAllString(s, ansiCode+"$1"+ansiReset)
	s = strong.ReplaceAllString(s, ansiBold+"$1"+ansiReset)
	return emphasis.ReplaceAllString(s, ansiEm+"$1"+ansiReset)
}

// wrap breaks s into lines of at most width visible characters, the first
// starting with lead and the others indented to match it.
func wrap(s string, width int, lead string) string {
	indent := strings.Repeat(" ", len([]rune(lead)))
	var out strings.Builder
	line, visible := lead, len([]rune(lead))
	for _, word := range strings.Fields(s) {
		n := visibleLen(word)
		if visible > len(indent) && visible+1+n > width {
			out.WriteString(line + "\n")
			line, visible = indent, len(indent)
		}
		if visible > len(indent) || (line != indent && line != lead) {
			line += " "
			visible++
		}
		line += word
		visible += n
	}
	out.WriteString(line)
	return out.String()
}

var ansiEscape = regexp.MustCompile("\x1b\\[[0-9;]*m")

func visibleLen(s string) int { return len([]rune(ansiEscape.ReplaceAllString(s, ""))) }
