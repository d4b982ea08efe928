// The README's example in Go: the tasks of one Fargate service answer at mc.example.com.
//
// Source only: the consumer tests do not compile it (building aws-cdk-go takes far longer than the
// rest of CI). Synthesize it with `cdk synth` (cdk.json runs `go mod download && go run .`).
package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsroute53"
	"github.com/aws/jsii-runtime-go"
	"github.com/engineal/cdk-ecs-public-discovery-go/cdkecspublicdiscovery/v2"
)

func main() {
	defer jsii.Close()

	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("GameStack"), nil)

	vpc := awsec2.NewVpc(stack, jsii.String("Vpc"), &awsec2.VpcProps{
		NatGateways: jsii.Number(0),
		SubnetConfiguration: &[]*awsec2.SubnetConfiguration{
			{Name: jsii.String("public"), SubnetType: awsec2.SubnetType_PUBLIC},
		},
	})
	cluster := awsecs.NewCluster(stack, jsii.String("Cluster"), &awsecs.ClusterProps{Vpc: vpc})
	hostedZone := awsroute53.HostedZone_FromHostedZoneAttributes(stack, jsii.String("Zone"), &awsroute53.HostedZoneAttributes{
		HostedZoneId: jsii.String("Z1R8UBAEXAMPLE"),
		ZoneName:     jsii.String("example.com"),
	})

	discovery := cdkecspublicdiscovery.NewEcsPublicDiscovery(stack, jsii.String("Discovery"), &cdkecspublicdiscovery.EcsPublicDiscoveryProps{
		Cluster:    cluster,
		HostedZone: hostedZone,
	})

	taskDefinition := awsecs.NewFargateTaskDefinition(stack, jsii.String("Server"), nil)
	taskDefinition.AddContainer(jsii.String("server"), &awsecs.ContainerDefinitionOptions{
		Image:        awsecs.ContainerImage_FromRegistry(jsii.String("itzg/minecraft-server"), nil),
		PortMappings: &[]*awsecs.PortMapping{{ContainerPort: jsii.Number(25565)}},
	})
	service := awsecs.NewFargateService(stack, jsii.String("Service"), &awsecs.FargateServiceProps{
		Cluster:        cluster,
		TaskDefinition: taskDefinition,
		AssignPublicIp: jsii.Bool(true),
	})

	// Tasks of this service answer at mc.example.com, with a 30 second TTL.
	discovery.AddService(&cdkecspublicdiscovery.ServiceOptions{
		Service: service,
		Name:    jsii.String("mc"),
		DnsTtl:  awscdk.Duration_Seconds(jsii.Number(30)),
	})

	app.Synth(nil)
}
