# vagrant/vm.mk: the lab VM targets, included by the Makefile.
#
#   sudo make image          build the Debian 12 VM image (cached in .cache/vm)
#   sudo make test-vm        every test binary and `lab dev check` inside the VM
#   sudo make box            the offline classroom box: .cache/vm/box/lab.box + lab.qcow2
#   sudo make test-vagrant   vagrant up the local box with libvirt, grade, destroy
#   make lint-vm             ruby -c the Vagrantfiles, shellcheck every shell script
#   sudo make vm-deps        the Debian packages these targets use
#
# Times measured on a 2-core CI machine (software emulation, no KVM) are in
# README.md. LAB_VM_* variables (see vagrant/vmtest/run.sh) tune the VM.

.PHONY: vm-deps image test-vm box test-vagrant lint-vm

vm-deps:
	bash vagrant/image/deps.sh

image: vm-deps
	bash vagrant/image/build.sh

test-vm: vm-deps
	GO=$(GO) bash vagrant/vmtest/run.sh

box: vm-deps
	GO=$(GO) bash vagrant/image/box.sh

test-vagrant: box
	bash vagrant/image/deps.sh --vagrant
	bash vagrant/vmtest/vagrant.sh

lint-vm: vm-deps
	LAB_REQUIRE_ALL=1 $(GO) test -count=1 -run '^TestVMFiles$$' ./vagrant/
