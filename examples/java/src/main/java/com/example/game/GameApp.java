package com.example.game;

import com.engineal.cdk.ecspublicdiscovery.EcsPublicDiscovery;
import com.engineal.cdk.ecspublicdiscovery.ServiceOptions;
import java.util.List;
import software.amazon.awscdk.App;
import software.amazon.awscdk.Duration;
import software.amazon.awscdk.Stack;
import software.amazon.awscdk.services.ec2.SubnetConfiguration;
import software.amazon.awscdk.services.ec2.SubnetType;
import software.amazon.awscdk.services.ec2.Vpc;
import software.amazon.awscdk.services.ecs.Cluster;
import software.amazon.awscdk.services.ecs.ContainerDefinitionOptions;
import software.amazon.awscdk.services.ecs.ContainerImage;
import software.amazon.awscdk.services.ecs.FargateService;
import software.amazon.awscdk.services.ecs.FargateTaskDefinition;
import software.amazon.awscdk.services.ecs.PortMapping;
import software.amazon.awscdk.services.route53.HostedZone;
import software.amazon.awscdk.services.route53.HostedZoneAttributes;
import software.amazon.awscdk.services.route53.IHostedZone;

/** The README's example in Java: the tasks of one Fargate service answer at mc.example.com. */
public final class GameApp {
    public static void main(final String[] args) {
        App app = new App();
        Stack stack = new Stack(app, "GameStack");

        Vpc vpc = Vpc.Builder.create(stack, "Vpc")
                .natGateways(0)
                .subnetConfiguration(List.of(SubnetConfiguration.builder()
                        .name("public")
                        .subnetType(SubnetType.PUBLIC)
                        .build()))
                .build();
        Cluster cluster = Cluster.Builder.create(stack, "Cluster").vpc(vpc).build();
        IHostedZone hostedZone = HostedZone.fromHostedZoneAttributes(stack, "Zone", HostedZoneAttributes.builder()
                .hostedZoneId("Z1R8UBAEXAMPLE")
                .zoneName("example.com")
                .build());

        EcsPublicDiscovery discovery = EcsPublicDiscovery.Builder.create(stack, "Discovery")
                .cluster(cluster)
                .hostedZone(hostedZone)
                .build();

        FargateTaskDefinition taskDefinition = new FargateTaskDefinition(stack, "Server");
        taskDefinition.addContainer("server", ContainerDefinitionOptions.builder()
                .image(ContainerImage.fromRegistry("itzg/minecraft-server"))
                .portMappings(List.of(PortMapping.builder().containerPort(25565).build()))
                .build());
        FargateService service = FargateService.Builder.create(stack, "Service")
                .cluster(cluster)
                .taskDefinition(taskDefinition)
                .assignPublicIp(true)
                .build();

        // Tasks of this service answer at mc.example.com, with a 30 second TTL.
        discovery.addService(ServiceOptions.builder()
                .service(service)
                .name("mc")
                .dnsTtl(Duration.seconds(30))
                .build());

        app.synth();
    }
}
