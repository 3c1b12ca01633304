package main

// The scale scenario: generated KWOK nodes in three zones, StatefulSets whose pods each own
// a gp3 claim, and Deployments for the rest of the pods. It waits until the target counts
// of Ready nodes, Bound claims and Running pods are reached and prints the elapsed times.

import (
	"context"
	"flag"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	apitypes "k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
)

const (
	perWorkload = 100             // replicas per StatefulSet / Deployment
	scaleClass  = "gp3-immediate" // the claims' class, made by the loader
)

func runScale(args []string) int {
	fs := flag.NewFlagSet("scale", flag.ContinueOnError)
	kubeconfig := fs.String("kubeconfig", "", "kubeconfig of the test cluster")
	nodes := fs.Int("nodes", 1000, "KWOK nodes")
	pvcs := fs.Int("pvcs", 10000, "bound claims (one per StatefulSet pod)")
	pods := fs.Int("pods", 30000, "running pods in total (StatefulSet pods plus Deployment pods)")
	namespaces := fs.Int("namespaces", 10, "namespaces to spread the workloads over")
	timeout := fs.Duration("timeout", 30*time.Minute, "give up after this long")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *pods < *pvcs || *pvcs%perWorkload != 0 || (*pods-*pvcs)%perWorkload != 0 || *namespaces < 1 {
		fmt.Fprintf(os.Stderr, "cvcluster scale: --pvcs and --pods-minus-pvcs must be multiples of %d and pods >= pvcs\n", perWorkload)
		return 2
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
	if err != nil {
		fmt.Fprintf(os.Stderr, "cvcluster scale: kubeconfig %q: %v\n", *kubeconfig, err)
		return 2
	}
	cfg.QPS, cfg.Burst = 1000, 2000
	cfg.UserAgent = "cloudvault-scale-loader"
	client := kubernetes.NewForConfigOrDie(cfg)
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	start := time.Now()
	say := func(format string, a ...interface{}) {
		fmt.Fprintf(os.Stderr, "scale: %6.1fs "+format+"\n", append([]interface{}{time.Since(start).Seconds()}, a...)...)
	}

	// Count from watches, keeping only what is counted, so 30k pods cost little memory.
	var readyNodes, boundClaims, runningPods atomic.Int64
	f := informers.NewSharedInformerFactory(client, 0)
	// counter returns what it has seen: key -> counted.
	counter := func(inf cache.SharedIndexInformer, counted func(interface{}) bool, n *atomic.Int64) *sync.Map {
		seen := &sync.Map{}
		update := func(obj interface{}) {
			key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj)
			if err != nil {
				return
			}
			now := counted(obj)
			prev, loaded := seen.Swap(key, now)
			was := loaded && prev.(bool)
			if now && !was {
				n.Add(1)
			} else if !now && was {
				n.Add(-1)
			}
		}
		_, _ = inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc:    update,
			UpdateFunc: func(_, o interface{}) { update(o) },
			DeleteFunc: func(o interface{}) {
				if key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(o); err == nil {
					if prev, ok := seen.LoadAndDelete(key); ok && prev.(bool) {
						n.Add(-1)
					}
				}
			},
		})
		return seen
	}
	podInf := f.Core().V1().Pods().Informer()
	_ = podInf.SetTransform(func(o interface{}) (interface{}, error) {
		if p, ok := o.(*corev1.Pod); ok {
			return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: p.Name, Namespace: p.Namespace},
				Status: corev1.PodStatus{Phase: p.Status.Phase}}, nil
		}
		return o, nil
	})
	counter(podInf, func(o interface{}) bool { p, ok := o.(*corev1.Pod); return ok && p.Status.Phase == corev1.PodRunning }, &runningPods)
	claimsSeen := counter(f.Core().V1().PersistentVolumeClaims().Informer(), func(o interface{}) bool {
		c, ok := o.(*corev1.PersistentVolumeClaim)
		return ok && c.Status.Phase == corev1.ClaimBound
	}, &boundClaims)
	counter(f.Core().V1().Nodes().Informer(), func(o interface{}) bool {
		n, ok := o.(*corev1.Node)
		if !ok {
			return false
		}
		for _, c := range n.Status.Conditions {
			if c.Type == corev1.NodeReady {
				return c.Status == corev1.ConditionTrue
			}
		}
		return false
	}, &readyNodes)
	f.Start(ctx.Done())

	zones := []string{"us-east-1a", "us-east-1b", "us-east-1c"}
	types := []string{"m5.xlarge", "m5.2xlarge", "r5.2xlarge", "c5.4xlarge"}
	err = parallel(ctx, *nodes, 50, func(i int) error {
		z, it := zones[i%len(zones)], types[i%len(types)]
		name := fmt.Sprintf("kwok-scale-%04d", i)
		_, err := client.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{
			Name:        name,
			Annotations: map[string]string{"kwok.x-k8s.io/node": "fake"},
			Labels: map[string]string{
				"type": "kwok", "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
				"kubernetes.io/hostname": name, "node.kubernetes.io/instance-type": it,
				"beta.kubernetes.io/instance-type": it,
				"topology.kubernetes.io/region":    "us-east-1", "failure-domain.beta.kubernetes.io/region": "us-east-1",
				"topology.kubernetes.io/zone": z, "failure-domain.beta.kubernetes.io/zone": z,
			},
		},
			// As the AWS cloud provider sets it: the plugin reads provider and zone from it.
			Spec: corev1.NodeSpec{ProviderID: fmt.Sprintf("aws:///%s/i-0scale%012d", z, i)},
		}, metav1.CreateOptions{})
		return ignoreExists(err)
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "cvcluster scale: creating nodes: %v\n", err)
		return 1
	}
	say("created %d nodes", *nodes)
	for i := 0; i < *namespaces; i++ {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("scale-%02d", i)}}
		if _, err := client.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); ignoreExists(err) != nil {
			fmt.Fprintf(os.Stderr, "cvcluster scale: namespace %s: %v\n", ns.Name, err)
			return 1
		}
	}
	// Pods need the namespace's default service account, made by the controller-manager.
	for i := 0; i < *namespaces; i++ {
		ns := fmt.Sprintf("scale-%02d", i)
		for {
			if _, err := client.CoreV1().ServiceAccounts(ns).Get(ctx, "default", metav1.GetOptions{}); err == nil {
				break
			}
			select {
			case <-ctx.Done():
				fmt.Fprintf(os.Stderr, "cvcluster scale: no default service account in %s\n", ns)
				return 1
			case <-time.After(200 * time.Millisecond):
			}
		}
	}
	// Immediate binding: with WaitForFirstConsumer the scheduler matches every pending claim
	// against every PV for each candidate node, which grows quadratically at this size.
	immediate := storagev1.VolumeBindingImmediate
	class := &storagev1.StorageClass{
		ObjectMeta:        metav1.ObjectMeta{Name: scaleClass},
		Provisioner:       "ebs.csi.aws.com",
		Parameters:        map[string]string{"type": "gp3"},
		VolumeBindingMode: &immediate,
	}
	if _, err := client.StorageV1().StorageClasses().Create(ctx, class, metav1.CreateOptions{}); ignoreExists(err) != nil {
		fmt.Fprintf(os.Stderr, "cvcluster scale: storage class %s: %v\n", scaleClass, err)
		return 1
	}
	nSts, nDep := *pvcs/perWorkload, (*pods-*pvcs)/perWorkload
	stsNamespace := func(i int) string { return fmt.Sprintf("scale-%02d", i%*namespaces) }
	// The StatefulSets' claims are made first, under the names the StatefulSets will adopt
	// (data-<set>-<ordinal>); a pod whose claim is still unbound would only fail scheduling,
	// and every failure costs the scheduler a synchronous status write.
	//
	// Each claim gets its volume from the loader, pre-bound both ways (the claim's
	// volumeName, the volume's claimRef with the claim's uid), zonal as the EBS driver makes
	// them, and the PV binder completes the binding. Dynamic provisioning is what the small
	// scenario and the test CSI controller cover; at 10k claims the binder's single claim
	// worker matched each unnamed claim against every volume it knew (130-230 s). The
	// binder looks a named volume up when it syncs the claim and otherwise only at its
	// 5-minute resync, so the claim is touched once its volume exists (touchClaim).
	touchClaim := func(ns, name string) error {
		patch := fmt.Sprintf(`{"metadata":{"annotations":{"cloudvault.test/volume-ready":%q}}}`, time.Now().Format(time.RFC3339Nano))
		_, err := client.CoreV1().PersistentVolumeClaims(ns).Patch(ctx, name, apitypes.MergePatchType, []byte(patch), metav1.PatchOptions{})
		return err
	}
	err = parallel(ctx, *pvcs, 20, func(k int) error {
		i, ord := k/perWorkload, k%perWorkload
		ns, name := stsNamespace(i), fmt.Sprintf("data-db-%03d-%d", i, ord)
		pv := "pv-scale-" + ns + "-" + name
		c := claim(name, fmt.Sprintf("db-%03d", i))
		c.Spec.VolumeName = pv
		created, err := client.CoreV1().PersistentVolumeClaims(ns).Create(ctx, c, metav1.CreateOptions{})
		if apierrors.IsAlreadyExists(err) {
			created, err = client.CoreV1().PersistentVolumeClaims(ns).Get(ctx, name, metav1.GetOptions{})
		}
		if err != nil {
			return err
		}
		_, err = client.CoreV1().PersistentVolumes().Create(ctx, volume(pv, created, zones[k%len(zones)]), metav1.CreateOptions{})
		if err = ignoreExists(err); err != nil {
			return err
		}
		return touchClaim(ns, name)
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "cvcluster scale: creating claims: %v\n", err)
		return 1
	}
	say("created %d claims", *pvcs)
	stsCreated := false
	// Pods only after the claims are bound: the PV binder works one claim at a time, so it
	// is the slowest part, and pod traffic would make each of its writes wait longer.
	createSets := func() error {
		err := parallel(ctx, nSts+nDep, 10, func(i int) error {
			if i < nSts {
				_, err := client.AppsV1().StatefulSets(stsNamespace(i)).Create(ctx, statefulSet(fmt.Sprintf("db-%03d", i)), metav1.CreateOptions{})
				return ignoreExists(err)
			}
			_, err := client.AppsV1().Deployments(stsNamespace(i)).Create(ctx, deployment(fmt.Sprintf("app-%03d", i-nSts)), metav1.CreateOptions{})
			return ignoreExists(err)
		})
		if err == nil {
			say("created %d StatefulSets and %d Deployments of %d replicas", nSts, nDep, perWorkload)
		}
		return err
	}

	var nodesAt, claimsAt time.Duration
	lastTouch := time.Now()
	tick := time.NewTicker(10 * time.Second)
	defer tick.Stop()
	for {
		n, c, p := readyNodes.Load(), boundClaims.Load(), runningPods.Load()
		if nodesAt == 0 && n >= int64(*nodes) {
			nodesAt = time.Since(start)
			say("%d nodes Ready", n)
		}
		if claimsAt == 0 && c >= int64(*pvcs) {
			claimsAt = time.Since(start)
			say("%d claims Bound", c)
		}
		// A claim the binder failed to bind (a conflict between its claim and volume
		// workers; it does not retry until the resync) is touched again.
		if claimsAt == 0 && time.Since(lastTouch) > 30*time.Second && c > 0 {
			lastTouch = time.Now()
			claimsSeen.Range(func(k, bound interface{}) bool {
				if !bound.(bool) {
					if ns, name, err := cache.SplitMetaNamespaceKey(k.(string)); err == nil {
						_ = touchClaim(ns, name)
					}
				}
				return true
			})
		}
		if claimsAt > 0 && !stsCreated {
			if err := createSets(); err != nil {
				fmt.Fprintf(os.Stderr, "cvcluster scale: creating statefulsets: %v\n", err)
				return 1
			}
			stsCreated = true
		}
		if nodesAt > 0 && claimsAt > 0 && p >= int64(*pods) {
			say("%d pods Running: scenario reached", p)
			fmt.Fprintf(os.Stderr, "scale: RESULT nodes=%d readyAt=%.0fs claims=%d boundAt=%.0fs pods=%d runningAt=%.0fs\n",
				n, nodesAt.Seconds(), c, claimsAt.Seconds(), p, time.Since(start).Seconds())
			return 0
		}
		select {
		case <-ctx.Done():
			fmt.Fprintf(os.Stderr, "cvcluster scale: not reached within %s: %d/%d nodes Ready, %d/%d claims Bound, %d/%d pods Running\n",
				*timeout, readyNodes.Load(), *nodes, boundClaims.Load(), *pvcs, runningPods.Load(), *pods)
			return 1
		case <-tick.C:
			say("progress: %d nodes Ready, %d claims Bound, %d pods Running",
				readyNodes.Load(), boundClaims.Load(), runningPods.Load())
		}
	}
}

func ignoreExists(err error) error {
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	return err
}

// parallel runs fn(0..n-1) on `workers` goroutines and returns the first error.
func parallel(ctx context.Context, n, workers int, fn func(int) error) error {
	var next atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				if err := fn(i); err != nil {
					once.Do(func() { firstErr = err })
					return
				}
			}
		}()
	}
	wg.Wait()
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	return firstErr
}

func podTemplate(app string) corev1.PodTemplateSpec {
	no := false
	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": app}},
		Spec: corev1.PodSpec{
			AutomountServiceAccountToken: &no,
			Containers: []corev1.Container{{
				Name: "main", Image: "registry.k8s.io/pause:3.10",
				Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
					corev1.ResourceCPU: resource.MustParse("10m"), corev1.ResourceMemory: resource.MustParse("16Mi"),
				}},
			}},
		},
	}
}

func claim(name, app string) *corev1.PersistentVolumeClaim {
	class := scaleClass
	return &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"app": app}},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			StorageClassName: &class,
			Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{
				corev1.ResourceStorage: resource.MustParse("10Gi"),
			}},
		},
	}
}

// volume is a gp3 EBS volume in zone, bound to claim c.
func volume(name string, c *corev1.PersistentVolumeClaim, zone string) *corev1.PersistentVolume {
	return &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: map[string]string{annProvisionedBy: "ebs.csi.aws.com"}},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:                      c.Spec.Resources.Requests,
			AccessModes:                   c.Spec.AccessModes,
			PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimDelete,
			StorageClassName:              scaleClass,
			ClaimRef: &corev1.ObjectReference{
				Kind: "PersistentVolumeClaim", APIVersion: "v1",
				Namespace: c.Namespace, Name: c.Name, UID: c.UID,
			},
			PersistentVolumeSource: corev1.PersistentVolumeSource{CSI: &corev1.CSIPersistentVolumeSource{
				Driver: "ebs.csi.aws.com", VolumeHandle: "vol-" + name, FSType: "ext4",
			}},
			NodeAffinity: &corev1.VolumeNodeAffinity{Required: &corev1.NodeSelector{
				NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchExpressions: []corev1.NodeSelectorRequirement{{
					Key: zoneLabel, Operator: corev1.NodeSelectorOpIn, Values: []string{zone},
				}}}},
			}},
		},
	}
}

func statefulSet(name string) *appsv1.StatefulSet {
	replicas := int32(perWorkload)
	tmpl := podTemplate(name)
	tmpl.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "data", MountPath: "/data"}}
	return &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.StatefulSetSpec{
			Replicas:             &replicas,
			ServiceName:          name,
			PodManagementPolicy:  appsv1.ParallelPodManagement,
			Selector:             &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template:             tmpl,
			VolumeClaimTemplates: []corev1.PersistentVolumeClaim{*claim("data", name)},
		},
	}
}

func deployment(name string) *appsv1.Deployment {
	replicas := int32(perWorkload)
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: podTemplate(name),
		},
	}
}
