// Command cvcluster runs one part of the CloudVault test control plane per process:
// embedded etcd, kube-apiserver, kube-scheduler, kube-controller-manager or the test CSI
// controller. One binary keeps the cold build to a single link of the Kubernetes code.
package main

import (
	"fmt"
	"os"

	"k8s.io/component-base/cli"
	kubectl "k8s.io/kubectl/pkg/cmd"
	kubectlutil "k8s.io/kubectl/pkg/cmd/util"
	apiserver "k8s.io/kubernetes/cmd/kube-apiserver/app"
	controllermanager "k8s.io/kubernetes/cmd/kube-controller-manager/app"
	scheduler "k8s.io/kubernetes/cmd/kube-scheduler/app"
)

const usage = "usage: cvcluster certs|etcd|apiserver|scheduler|controller-manager|csi|kubectl|scale|freeport [flags]"

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, usage)
		os.Exit(2)
	}
	mode, args := os.Args[1], os.Args[2:]
	switch mode {
	case "certs":
		os.Exit(runCerts(args))
	case "csi":
		os.Exit(runCSI(args))
	case "scale":
		os.Exit(runScale(args))
	case "freeport":
		os.Exit(runFreePort(args))
	case "kubectl":
		// The scripts use this kubectl so its version matches the control plane.
		// kubectl reads os.Args itself (plugins, verbosity), so make it look like argv of kubectl.
		os.Args = os.Args[1:]
		if err := cli.RunNoErrOutput(kubectl.NewDefaultKubectlCommand()); err != nil {
			kubectlutil.CheckErr(err)
		}
		os.Exit(0)
	case "etcd":
		os.Exit(runEtcd(args))
	case "apiserver":
		cmd := apiserver.NewAPIServerCommand()
		cmd.SetArgs(args)
		os.Exit(cli.Run(cmd))
	case "scheduler":
		cmd := scheduler.NewSchedulerCommand()
		cmd.SetArgs(args)
		os.Exit(cli.Run(cmd))
	case "controller-manager":
		cmd := controllermanager.NewControllerManagerCommand()
		cmd.SetArgs(args)
		os.Exit(cli.Run(cmd))
	default:
		fmt.Fprintf(os.Stderr, "cvcluster: unknown mode %q; %s\n", mode, usage)
		os.Exit(2)
	}
}
