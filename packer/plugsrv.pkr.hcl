// The appliance image: boots the base image (image/build-base.sh) in qemu, installs the agent and the hardened
// overlay (image/provision.sh), then removes every build-time access and powers off (image/finalize-guest.sh).
// Packer 1.6 (Debian 12): builtin qemu builder, no plugins; OVMF through qemuargs (no `firmware` option in 1.6).
// Run it through `npm run image:build` (image/build.sh), which builds the inputs and passes these variables.

packer {
  required_version = ">= 1.6.0"
}

variable "base_image" {
  type        = string
  description = "The base qcow2 made by image/build-base.sh."
}

variable "base_image_checksum" {
  type        = string
  description = "sha256:<hex> of the base image, so Packer refuses a changed file."
}

variable "build_key" {
  type        = string
  description = "Private half of the temporary root key baked into the base image; finalize-guest.sh removes the public half."
}

variable "agent_bundle" {
  type        = string
  description = "The agent tar made by image/bundle-agent.sh."
}

variable "rootfs_tar" {
  type        = string
  description = "The image/rootfs overlay as a tar (root-owned)."
}

variable "output_dir" {
  type    = string
  default = "image/out/packer"
}

variable "accelerator" {
  type        = string
  default     = "tcg"
  description = "kvm where it works; tcg (software emulation) otherwise."
}

variable "ovmf" {
  type    = string
  default = "/usr/share/ovmf/OVMF.fd"
}

source "qemu" "plugsrv" {
  disk_image         = true
  iso_url            = var.base_image
  iso_checksum       = var.base_image_checksum
  use_backing_file   = false
  skip_resize_disk   = true
  format             = "qcow2"
  disk_interface     = "virtio"
  disk_discard       = "unmap"
  disk_detect_zeroes = "unmap"
  accelerator        = var.accelerator
  machine_type       = "q35"
  cpus               = 2
  memory             = 1536
  headless           = true
  vnc_bind_address   = "127.0.0.1"
  output_directory   = var.output_dir
  vm_name            = "plugsrv.qcow2"
  qemuargs = [
    ["-bios", var.ovmf],
    // Replaces Packer's default network: ssh forwarded on loopback only, and restrict=on keeps the guest off
    // every network but this forward (the build needs nothing from outside).
    ["-netdev", "user,id=user.0,restrict=on,hostfwd=tcp:127.0.0.1:{{ .SSHHostPort }}-:22"],
    // The guest's serial console (the kernel and systemd write there): the build's boot log, for diagnosis.
    ["-serial", "file:${var.output_dir}-serial.log"],
  ]
  communicator         = "ssh"
  ssh_username         = "root"
  ssh_private_key_file = var.build_key
  ssh_timeout          = "15m"
  shutdown_command     = "bash /tmp/finalize-guest.sh"
  shutdown_timeout     = "10m"
}

build {
  sources = ["source.qemu.plugsrv"]

  provisioner "file" {
    source      = var.agent_bundle
    destination = "/tmp/plugsrv-agent.tar"
  }

  provisioner "file" {
    source      = var.rootfs_tar
    destination = "/tmp/rootfs.tar"
  }

  provisioner "file" {
    source      = "image/finalize-guest.sh"
    destination = "/tmp/finalize-guest.sh"
  }

  provisioner "shell" {
    script = "image/provision.sh"
  }
}
