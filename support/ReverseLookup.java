import java.net.InetAddress;

/**
 * Prints `== java ADDRESS NAME` for each address argument: InetAddress.getCanonicalHostName, the
 * reverse lookup Java libraries (HDFS, TLS hostname checks) make. Java returns the name only when
 * its forward lookup includes the address again, else the address itself. Run as a source file
 * (`java ReverseLookup.java ADDRESS...`) by support/netns-reverse.sh.
 */
public class ReverseLookup {
  public static void main(String[] args) throws Exception {
    for (String address : args) {
      String name = InetAddress.getByName(address).getCanonicalHostName();
      System.out.println("== java " + address + " " + name);
    }
  }
}
