package main

// The test CSI controller plays the part of a CSI driver's controller side (there is no
// real driver here): it provisions PVs for claims of the test storage classes with node
// affinity to the selected node's zone, deletes released dynamic PVs, marks
// VolumeSnapshots ready and completes VolumeAttributesClass changes. Tests only.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sort"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	storagelisters "k8s.io/client-go/listers/storage/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"
)

const (
	annStorageProvisioner     = "volume.kubernetes.io/storage-provisioner"
	annBetaStorageProvisioner = "volume.beta.kubernetes.io/storage-provisioner"
	annSelectedNode           = "volume.kubernetes.io/selected-node"
	annProvisionedBy          = "pv.kubernetes.io/provisioned-by"
	// A VolumeAttributesClass with this annotation set to "true" is rejected as Infeasible,
	// so tests can exercise a failed modification.
	annRejectVAC = "csi.cloudvault.test/reject"
	zoneLabel    = "topology.kubernetes.io/zone"
)

// Drivers whose volumes live in one zone; the others (EFS, Azure Files, Filestore) are
// reachable from every zone of the region and get no node affinity.
// errWaiting marks a retry that waits for another component (e.g. the PV binder).
var errWaiting = errors.New("not ready yet")

var zonalDrivers = map[string]bool{
	"ebs.csi.aws.com":       true,
	"pd.csi.storage.gke.io": true,
	"disk.csi.azure.com":    true,
}

var (
	snapGVR        = schema.GroupVersionResource{Group: "snapshot.storage.k8s.io", Version: "v1", Resource: "volumesnapshots"}
	snapContentGVR = schema.GroupVersionResource{Group: "snapshot.storage.k8s.io", Version: "v1", Resource: "volumesnapshotcontents"}
	snapClassGVR   = schema.GroupVersionResource{Group: "snapshot.storage.k8s.io", Version: "v1", Resource: "volumesnapshotclasses"}
)

type csiController struct {
	client     kubernetes.Interface
	dyn        dynamic.Interface
	drivers    map[string]bool
	rejectVACs map[string]bool
	pvcs       corelisters.PersistentVolumeClaimLister
	pvs        corelisters.PersistentVolumeLister
	nodes      corelisters.NodeLister
	classes    storagelisters.StorageClassLister
	vacs       storagelisters.VolumeAttributesClassLister
	snaps      cache.GenericLister
	queue      workqueue.TypedRateLimitingInterface[string]
	rr         atomic.Uint64
}

func runCSI(args []string) int {
	fs := flag.NewFlagSet("csi", flag.ContinueOnError)
	kubeconfig := fs.String("kubeconfig", "", "kubeconfig of the test cluster")
	drivers := fs.String("drivers", "ebs.csi.aws.com,pd.csi.storage.gke.io,disk.csi.azure.com,efs.csi.aws.com,file.csi.azure.com,filestore.csi.storage.gke.io", "CSI driver names to act for")
	reject := fs.String("reject-vac", "", "comma-separated VolumeAttributesClass names to reject as Infeasible")
	workers := fs.Int("workers", 8, "parallel reconcilers")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
	if err != nil {
		fmt.Fprintf(os.Stderr, "cvcluster csi: kubeconfig %q: %v\n", *kubeconfig, err)
		return 2
	}
	// The scale scenario provisions thousands of volumes; the default 5 QPS would dominate.
	cfg.QPS, cfg.Burst = 1000, 2000
	cfg.UserAgent = "cloudvault-test-csi"
	c := &csiController{
		client:     kubernetes.NewForConfigOrDie(cfg),
		dyn:        dynamic.NewForConfigOrDie(cfg),
		drivers:    splitSet(*drivers),
		rejectVACs: splitSet(*reject),
		queue:      workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[string]()),
	}
	ctx, cancel := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer cancel()

	f := informers.NewSharedInformerFactory(c.client, 0)
	pvcInf := f.Core().V1().PersistentVolumeClaims()
	pvInf := f.Core().V1().PersistentVolumes()
	vacInf := f.Storage().V1().VolumeAttributesClasses()
	c.pvcs, c.pvs, c.vacs = pvcInf.Lister(), pvInf.Lister(), vacInf.Lister()
	c.nodes, c.classes = f.Core().V1().Nodes().Lister(), f.Storage().V1().StorageClasses().Lister()
	df := dynamicinformer.NewDynamicSharedInformerFactory(c.dyn, 0)
	snapInf := df.ForResource(snapGVR)
	c.snaps = snapInf.Lister()

	enqueue := func(prefix string) cache.ResourceEventHandler {
		add := func(obj interface{}) {
			if key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj); err == nil {
				c.queue.Add(prefix + key)
			}
		}
		return cache.ResourceEventHandlerFuncs{AddFunc: add, UpdateFunc: func(_, n interface{}) { add(n) }}
	}
	must := func(_ cache.ResourceEventHandlerRegistration, err error) {
		if err != nil {
			klog.Fatalf("register handler: %v", err)
		}
	}
	must(pvcInf.Informer().AddEventHandler(enqueue("pvc/")))
	must(pvInf.Informer().AddEventHandler(enqueue("pv/")))
	must(snapInf.Informer().AddEventHandler(enqueue("snap/")))
	// A new or changed class can unblock claims waiting for it.
	must(vacInf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(interface{}) { c.requeueClaims() },
		UpdateFunc: func(_, _ interface{}) { c.requeueClaims() },
	}))
	f.Start(ctx.Done())
	df.Start(ctx.Done())
	f.WaitForCacheSync(ctx.Done())
	df.WaitForCacheSync(ctx.Done())
	klog.Infof("test CSI controller running for drivers %v", *drivers)
	for i := 0; i < *workers; i++ {
		go c.work(ctx)
	}
	<-ctx.Done()
	c.queue.ShutDown()
	return 0
}

func splitSet(s string) map[string]bool {
	m := map[string]bool{}
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			m[p] = true
		}
	}
	return m
}

func (c *csiController) requeueClaims() {
	list, err := c.pvcs.List(labels.Everything())
	if err != nil {
		return
	}
	for _, p := range list {
		c.queue.Add("pvc/" + p.Namespace + "/" + p.Name)
	}
}

func (c *csiController) work(ctx context.Context) {
	for {
		key, quit := c.queue.Get()
		if quit {
			return
		}
		kind, rest, _ := strings.Cut(key, "/")
		var err error
		switch kind {
		case "pvc":
			err = c.syncClaim(ctx, rest)
		case "pv":
			err = c.syncVolume(ctx, rest)
		case "snap":
			err = c.syncSnapshot(ctx, rest)
		}
		if err != nil {
			// Waiting for another component is normal; only real failures are warnings.
			if errors.Is(err, errWaiting) || apierrors.IsConflict(err) {
				klog.V(2).Infof("%s: %v (will retry)", key, err)
			} else {
				klog.Warningf("%s: %v (will retry)", key, err)
			}
			c.queue.AddRateLimited(key)
		} else {
			c.queue.Forget(key)
		}
		c.queue.Done(key)
	}
}

func (c *csiController) syncClaim(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	pvc, err := c.pvcs.PersistentVolumeClaims(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	} else if err != nil {
		return err
	}
	if pvc.DeletionTimestamp != nil {
		return nil
	}
	if pvc.Spec.VolumeName == "" {
		return c.provision(ctx, pvc)
	}
	if pvc.Status.Phase == corev1.ClaimBound {
		return c.modify(ctx, pvc)
	}
	return nil
}

func (c *csiController) provision(ctx context.Context, pvc *corev1.PersistentVolumeClaim) error {
	driver := pvc.Annotations[annStorageProvisioner]
	if driver == "" {
		driver = pvc.Annotations[annBetaStorageProvisioner]
	}
	if !c.drivers[driver] || pvc.Spec.StorageClassName == nil {
		return nil
	}
	sc, err := c.classes.Get(*pvc.Spec.StorageClassName)
	if err != nil {
		return fmt.Errorf("storage class %q: %w", *pvc.Spec.StorageClassName, err)
	}
	var zones []string
	if zonalDrivers[driver] {
		zone, err := c.pickZone(pvc, sc)
		if err != nil || zone == "" {
			return err
		}
		zones = []string{zone}
		// Regional PD and zone-redundant Azure disks span two zones of the region.
		if sc.Parameters["replication-type"] == "regional-pd" || strings.HasSuffix(sc.Parameters["skuName"], "_ZRS") {
			if second := c.otherZone(zone); second != "" {
				zones = append(zones, second)
			}
		}
	}
	size := pvc.Spec.Resources.Requests[corev1.ResourceStorage]
	if size.IsZero() {
		size = resource.MustParse("1Gi")
	}
	reclaim := corev1.PersistentVolumeReclaimDelete
	if sc.ReclaimPolicy != nil {
		reclaim = *sc.ReclaimPolicy
	}
	fsType := sc.Parameters["csi.storage.k8s.io/fstype"]
	if fsType == "" && zonalDrivers[driver] {
		fsType = "ext4"
	}
	pv := &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{
			Name:        "pvc-" + string(pvc.UID),
			Annotations: map[string]string{annProvisionedBy: driver},
			Finalizers:  []string{"kubernetes.io/pv-protection"},
		},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:                      corev1.ResourceList{corev1.ResourceStorage: size},
			AccessModes:                   pvc.Spec.AccessModes,
			PersistentVolumeReclaimPolicy: reclaim,
			StorageClassName:              sc.Name,
			MountOptions:                  sc.MountOptions,
			VolumeMode:                    pvc.Spec.VolumeMode,
			VolumeAttributesClassName:     pvc.Spec.VolumeAttributesClassName,
			ClaimRef: &corev1.ObjectReference{
				Kind: "PersistentVolumeClaim", APIVersion: "v1",
				Namespace: pvc.Namespace, Name: pvc.Name, UID: pvc.UID, ResourceVersion: pvc.ResourceVersion,
			},
			PersistentVolumeSource: corev1.PersistentVolumeSource{CSI: &corev1.CSIPersistentVolumeSource{
				Driver:       driver,
				VolumeHandle: volumeHandle(driver, string(pvc.UID)),
				FSType:       fsType,
				VolumeAttributes: map[string]string{
					"storage.kubernetes.io/csiProvisionerIdentity": "cloudvault-test-csi",
				},
			}},
		},
	}
	if len(zones) > 0 {
		pv.Spec.NodeAffinity = &corev1.VolumeNodeAffinity{Required: &corev1.NodeSelector{
			NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchExpressions: []corev1.NodeSelectorRequirement{{
				Key: zoneLabel, Operator: corev1.NodeSelectorOpIn, Values: zones,
			}}}},
		}}
	}
	_, err = c.client.CoreV1().PersistentVolumes().Create(ctx, pv, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	if err == nil {
		klog.V(2).Infof("provisioned %s for %s/%s in %v", pv.Name, pvc.Namespace, pvc.Name, zones)
	}
	return err
}

// pickZone follows the CSI topology rules: the selected node's zone for
// WaitForFirstConsumer, else a zone allowed by the class, spread round-robin.
func (c *csiController) pickZone(pvc *corev1.PersistentVolumeClaim, sc *storagev1.StorageClass) (string, error) {
	if sc.VolumeBindingMode != nil && *sc.VolumeBindingMode == storagev1.VolumeBindingWaitForFirstConsumer {
		nodeName := pvc.Annotations[annSelectedNode]
		if nodeName == "" {
			return "", nil // the scheduler has not chosen a node yet
		}
		node, err := c.nodes.Get(nodeName)
		if err != nil {
			return "", fmt.Errorf("selected node %q: %w", nodeName, err)
		}
		zone := node.Labels[zoneLabel]
		if zone == "" {
			return "", fmt.Errorf("selected node %q has no %s label", nodeName, zoneLabel)
		}
		return zone, nil
	}
	var allowed []string
	for _, t := range sc.AllowedTopologies {
		for _, e := range t.MatchLabelExpressions {
			if strings.HasSuffix(e.Key, "/zone") {
				allowed = append(allowed, e.Values...)
			}
		}
	}
	if len(allowed) == 0 {
		allowed = c.clusterZones()
	}
	if len(allowed) == 0 {
		return "", fmt.Errorf("no node has a %s label, cannot place the volume", zoneLabel)
	}
	return allowed[c.rr.Add(1)%uint64(len(allowed))], nil
}

func (c *csiController) clusterZones() []string {
	nodes, err := c.nodes.List(labels.Everything())
	if err != nil {
		return nil
	}
	set := map[string]bool{}
	for _, n := range nodes {
		if z := n.Labels[zoneLabel]; z != "" {
			set[z] = true
		}
	}
	zones := make([]string, 0, len(set))
	for z := range set {
		zones = append(zones, z)
	}
	sort.Strings(zones)
	return zones
}

func (c *csiController) otherZone(zone string) string {
	for _, z := range c.clusterZones() {
		if z != zone {
			return z
		}
	}
	return ""
}

func volumeHandle(driver, uid string) string {
	sum := sha256.Sum256([]byte(uid))
	id := hex.EncodeToString(sum[:])[:17]
	switch driver {
	case "ebs.csi.aws.com":
		return "vol-" + id
	case "efs.csi.aws.com":
		return "fs-" + id[:8]
	default:
		return "cv-test-" + id
	}
}

// modify completes a VolumeAttributesClass change the way the external-resizer reports it.
func (c *csiController) modify(ctx context.Context, pvc *corev1.PersistentVolumeClaim) error {
	want, cur := deref(pvc.Spec.VolumeAttributesClassName), deref(pvc.Status.CurrentVolumeAttributesClassName)
	pv, err := c.pvs.Get(pvc.Spec.VolumeName)
	if err != nil || pv.Spec.CSI == nil || !c.drivers[pv.Spec.CSI.Driver] {
		return nil
	}
	if want == cur {
		if pvc.Status.ModifyVolumeStatus == nil {
			return nil
		}
		clone := pvc.DeepCopy()
		clone.Status.ModifyVolumeStatus = nil // a rolled-back request
		_, err := c.client.CoreV1().PersistentVolumeClaims(pvc.Namespace).UpdateStatus(ctx, clone, metav1.UpdateOptions{})
		return err
	}
	if want == "" {
		return nil
	}
	status := corev1.PersistentVolumeClaimModifyVolumeInProgress
	vac, err := c.vacs.Get(want)
	switch {
	case apierrors.IsNotFound(err):
		status = corev1.PersistentVolumeClaimModifyVolumePending
	case err != nil:
		return err
	case vac.DriverName != pv.Spec.CSI.Driver || c.rejectVACs[want] || vac.Annotations[annRejectVAC] == "true":
		status = corev1.PersistentVolumeClaimModifyVolumeInfeasible
	}
	if ms := pvc.Status.ModifyVolumeStatus; ms == nil || ms.TargetVolumeAttributesClassName != want || ms.Status != status {
		clone := pvc.DeepCopy()
		clone.Status.ModifyVolumeStatus = &corev1.ModifyVolumeStatus{TargetVolumeAttributesClassName: want, Status: status}
		if pvc, err = c.client.CoreV1().PersistentVolumeClaims(pvc.Namespace).UpdateStatus(ctx, clone, metav1.UpdateOptions{}); err != nil {
			return err
		}
	}
	if status != corev1.PersistentVolumeClaimModifyVolumeInProgress {
		return nil
	}
	if deref(pv.Spec.VolumeAttributesClassName) != want {
		pvClone := pv.DeepCopy()
		pvClone.Spec.VolumeAttributesClassName = &want
		if _, err := c.client.CoreV1().PersistentVolumes().Update(ctx, pvClone, metav1.UpdateOptions{}); err != nil {
			return err
		}
	}
	clone := pvc.DeepCopy()
	clone.Status.CurrentVolumeAttributesClassName = &want
	clone.Status.ModifyVolumeStatus = nil
	_, err = c.client.CoreV1().PersistentVolumeClaims(pvc.Namespace).UpdateStatus(ctx, clone, metav1.UpdateOptions{})
	if err == nil {
		klog.V(2).Infof("modified %s/%s to class %s", pvc.Namespace, pvc.Name, want)
	}
	return err
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// syncVolume deletes released dynamic volumes with the Delete policy, as a driver would.
func (c *csiController) syncVolume(ctx context.Context, name string) error {
	pv, err := c.pvs.Get(name)
	if err != nil {
		return nil
	}
	if pv.Status.Phase != corev1.VolumeReleased || pv.Spec.PersistentVolumeReclaimPolicy != corev1.PersistentVolumeReclaimDelete ||
		!c.drivers[pv.Annotations[annProvisionedBy]] || pv.DeletionTimestamp != nil {
		return nil
	}
	err = c.client.CoreV1().PersistentVolumes().Delete(ctx, name, metav1.DeleteOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}

// syncSnapshot binds a VolumeSnapshot to a new ready VolumeSnapshotContent (the
// snapshot-controller's and the CSI snapshotter's work together).
func (c *csiController) syncSnapshot(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	obj, err := c.snaps.ByNamespace(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	} else if err != nil {
		return err
	}
	snap, ok := obj.(*unstructured.Unstructured)
	if !ok || snap.GetDeletionTimestamp() != nil {
		return nil
	}
	if ready, _, _ := unstructured.NestedBool(snap.Object, "status", "readyToUse"); ready {
		return nil
	}
	contentName, _, _ := unstructured.NestedString(snap.Object, "spec", "source", "volumeSnapshotContentName")
	restoreSize := "0"
	if contentName == "" {
		claimName, _, _ := unstructured.NestedString(snap.Object, "spec", "source", "persistentVolumeClaimName")
		pvc, err := c.pvcs.PersistentVolumeClaims(ns).Get(claimName)
		if err != nil {
			return fmt.Errorf("source claim %q: %w", claimName, err)
		}
		if pvc.Spec.VolumeName == "" {
			return fmt.Errorf("source claim %q: %w", claimName, errWaiting)
		}
		pv, err := c.pvs.Get(pvc.Spec.VolumeName)
		if err != nil {
			return fmt.Errorf("volume of claim %q: %w", claimName, err)
		}
		if pv.Spec.CSI == nil || !c.drivers[pv.Spec.CSI.Driver] {
			return nil
		}
		size := pv.Spec.Capacity[corev1.ResourceStorage]
		restoreSize = size.String()
		className, _, _ := unstructured.NestedString(snap.Object, "spec", "volumeSnapshotClassName")
		deletionPolicy := "Delete"
		if className != "" {
			class, err := c.dyn.Resource(snapClassGVR).Get(ctx, className, metav1.GetOptions{})
			if err != nil {
				return fmt.Errorf("snapshot class %q: %w", className, err)
			}
			if p, ok, _ := unstructured.NestedString(class.Object, "deletionPolicy"); ok {
				deletionPolicy = p
			}
		}
		contentName = "snapcontent-" + string(snap.GetUID())
		content := &unstructured.Unstructured{Object: map[string]interface{}{
			"apiVersion": "snapshot.storage.k8s.io/v1",
			"kind":       "VolumeSnapshotContent",
			"metadata":   map[string]interface{}{"name": contentName},
			"spec": map[string]interface{}{
				"deletionPolicy":          deletionPolicy,
				"driver":                  pv.Spec.CSI.Driver,
				"source":                  map[string]interface{}{"volumeHandle": pv.Spec.CSI.VolumeHandle},
				"volumeSnapshotClassName": className,
				"volumeSnapshotRef": map[string]interface{}{
					"apiVersion": "snapshot.storage.k8s.io/v1", "kind": "VolumeSnapshot",
					"name": name, "namespace": ns, "uid": string(snap.GetUID()),
				},
			},
		}}
		if className == "" {
			unstructured.RemoveNestedField(content.Object, "spec", "volumeSnapshotClassName")
		}
		created, err := c.dyn.Resource(snapContentGVR).Create(ctx, content, metav1.CreateOptions{})
		if apierrors.IsAlreadyExists(err) {
			created, err = c.dyn.Resource(snapContentGVR).Get(ctx, contentName, metav1.GetOptions{})
		}
		if err != nil {
			return fmt.Errorf("create %s: %w", contentName, err)
		}
		_ = unstructured.SetNestedField(created.Object, map[string]interface{}{
			"snapshotHandle": "snap-" + volumeHandle("", string(snap.GetUID()))[8:],
			"readyToUse":     true,
			"restoreSize":    size.Value(),
			"creationTime":   time.Now().UnixNano(),
		}, "status")
		if _, err := c.dyn.Resource(snapContentGVR).UpdateStatus(ctx, created, metav1.UpdateOptions{}); err != nil {
			return fmt.Errorf("status of %s: %w", contentName, err)
		}
	}
	clone := snap.DeepCopy()
	_ = unstructured.SetNestedField(clone.Object, map[string]interface{}{
		"boundVolumeSnapshotContentName": contentName,
		"readyToUse":                     true,
		"restoreSize":                    restoreSize,
		"creationTime":                   time.Now().UTC().Format(time.RFC3339),
	}, "status")
	_, err = c.dyn.Resource(snapGVR).Namespace(ns).UpdateStatus(ctx, clone, metav1.UpdateOptions{})
	return err
}
