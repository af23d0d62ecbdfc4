package cli

import "github.com/spf13/cobra"

// The generic verbs, as entries of the commands list in root.go.
func cmdList(f *Factory) *cobra.Command   { return newCmdList(f, nil) }
func cmdStart(f *Factory) *cobra.Command  { return newCmdStart(f, nil) }
func cmdCheck(f *Factory) *cobra.Command  { return newCmdCheck(f, nil) }
func cmdHint(f *Factory) *cobra.Command   { return newCmdHint(f, nil) }
func cmdStatus(f *Factory) *cobra.Command { return newCmdStatus(f, nil) }
func cmdNext(f *Factory) *cobra.Command   { return newCmdNext(f, nil) }
func cmdGoto(f *Factory) *cobra.Command   { return newCmdGoto(f, nil) }
func cmdSolve(f *Factory) *cobra.Command  { return newCmdSolve(f, nil) }
func cmdReset(f *Factory) *cobra.Command  { return newCmdReset(f, nil) }
func cmdGrade(f *Factory) *cobra.Command  { return newCmdGrade(f, nil) }
func cmdDoctor(f *Factory) *cobra.Command { return newCmdDoctor(f, nil) }
