// The README's example in C#: the tasks of one Fargate service answer at mc.example.com.
using Amazon.CDK;
using Amazon.CDK.AWS.EC2;
using Amazon.CDK.AWS.ECS;
using Amazon.CDK.AWS.Route53;
using EngineAL.CDK.EcsPublicDiscovery;

var app = new App();
var stack = new Stack(app, "GameStack");

var vpc = new Vpc(stack, "Vpc", new VpcProps
{
    NatGateways = 0,
    SubnetConfiguration = new[] { new SubnetConfiguration { Name = "public", SubnetType = SubnetType.PUBLIC } },
});
var cluster = new Cluster(stack, "Cluster", new ClusterProps { Vpc = vpc });
var hostedZone = HostedZone.FromHostedZoneAttributes(stack, "Zone", new HostedZoneAttributes
{
    HostedZoneId = "Z1R8UBAEXAMPLE",
    ZoneName = "example.com",
});

var discovery = new EcsPublicDiscovery(stack, "Discovery", new EcsPublicDiscoveryProps { Cluster = cluster, HostedZone = hostedZone });

var taskDefinition = new FargateTaskDefinition(stack, "Server");
taskDefinition.AddContainer("server", new ContainerDefinitionOptions
{
    Image = ContainerImage.FromRegistry("itzg/minecraft-server"),
    PortMappings = new[] { new PortMapping { ContainerPort = 25565 } },
});
var service = new FargateService(stack, "Service", new FargateServiceProps
{
    Cluster = cluster,
    TaskDefinition = taskDefinition,
    AssignPublicIp = true,
});

// Tasks of this service answer at mc.example.com, with a 30 second TTL.
discovery.AddService(new ServiceOptions { Service = service, Name = "mc", DnsTtl = Duration.Seconds(30) });

app.Synth();
