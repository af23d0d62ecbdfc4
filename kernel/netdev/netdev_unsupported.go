//go:build !linux

package netdev

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"time"
)

// Network devices are Linux only: every operation returns
// errors.ErrUnsupported elsewhere, so the lab still builds there.

func AddRule(Rule) error                                     { return errors.ErrUnsupported }
func DeleteRule(Rule) error                                  { return errors.ErrUnsupported }
func Rules(string, string) ([]Rule, error)                   { return nil, errors.ErrUnsupported }
func Policy(string, string) (string, error)                  { return "", errors.ErrUnsupported }
func DeleteRulesWhere(string, string, func(Rule) bool) error { return errors.ErrUnsupported }
func Links(string) ([]Link, error)                           { return nil, errors.ErrUnsupported }
func LinkByName(string, string) (Link, error)                { return Link{}, errors.ErrUnsupported }
func Routes(string) ([]Route, error)                         { return nil, errors.ErrUnsupported }
func TCPSockets(string) ([]Socket, error)                    { return nil, errors.ErrUnsupported }
func PeerOf(string, string) (Peer, error)                    { return Peer{}, errors.ErrUnsupported }
func Show(string) (State, error)                             { return State{}, errors.ErrUnsupported }
func IsExist(error) bool                                     { return false }
func AddVeth(string, string) error                           { return errors.ErrUnsupported }
func AddVethPeerIn(string, string, *os.File) error           { return errors.ErrUnsupported }
func AddBridge(string) error                                 { return errors.ErrUnsupported }
func SetNetns(string, string, string) error                  { return errors.ErrUnsupported }
func SetUp(string, string) error                             { return errors.ErrUnsupported }
func SetDown(string, string) error                           { return errors.ErrUnsupported }
func SetMaster(string, string) error                         { return errors.ErrUnsupported }
func AddAddr(string, string, netip.Prefix) error             { return errors.ErrUnsupported }
func DelAddr(string, string, netip.Prefix) error             { return errors.ErrUnsupported }
func AddDefaultRoute(string, netip.Addr) error               { return errors.ErrUnsupported }
func AddRoute(string, netip.Prefix, netip.Addr) error        { return errors.ErrUnsupported }
func DeleteLink(string, string) error                        { return errors.ErrUnsupported }
func Forwarding(string) (bool, error)                        { return false, errors.ErrUnsupported }
func SetForwarding(string, bool) error                       { return errors.ErrUnsupported }
func WaitRunning(string, string, time.Duration) error        { return errors.ErrUnsupported }
func ListenTCP(string, netip.AddrPort) (*net.TCPListener, error) {
	return nil, errors.ErrUnsupported
}

func DialTCP(context.Context, string, netip.AddrPort) (*net.TCPConn, error) {
	return nil, errors.ErrUnsupported
}
