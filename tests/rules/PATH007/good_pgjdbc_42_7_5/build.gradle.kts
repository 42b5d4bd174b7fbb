plugins {
    java
    id("org.springframework.boot") version "3.4.2"
}

dependencies {
    implementation("org.springframework.boot:spring-boot-starter-data-jpa")
    runtimeOnly("org.postgresql:postgresql:42.7.5")
}
